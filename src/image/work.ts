/**
 * Counters of the rules' work, so that tests can bound it in units that do not depend on the machine
 * (errors materialised, values compared) instead of timing it. Each is one integer increment where the
 * work happens; every thread has its own counters.
 */
export const work = {
  /** Errors ajv produced (objects it allocated), over every schema pass. */
  schemaErrors: 0,
  /** FieldErrors constructed, kept or not. */
  fieldErrors: 0,
  /** JSON values visited by deepEqual and canonicalJson: the cost of comparing. */
  valuesCompared: 0,
};

/** Sets every counter back to zero. */
export function resetWork(): void {
  work.schemaErrors = 0;
  work.fieldErrors = 0;
  work.valuesCompared = 0;
}
