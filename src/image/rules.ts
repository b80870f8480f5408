/**
 * The rule catalogue: every rule the webhook enforces, with the identifier that appears in field
 * errors, audit annotations, the decision log and metrics. The authority is
 * docs/rules.md, which a test keeps in step with it; the section each rule comes from is noted beside it.
 */

/** What a violation of a rule does to the write (before modes, exemptions and ratcheting). */
export type Enforcement = 'deny' | 'warn';

/** One entry of the catalogue. */
export interface Rule {
  readonly id: RuleId;
  readonly section: string;
  readonly summary: string;
  readonly enforcement: Enforcement;
  /** A policy rule that may warn but never deny: --rule-actions refuses `RULE=deny` for it. */
  readonly warnOnly?: true;
}

const catalogue = [
  // §2 Shape
  { id: 'object-shape', section: '2', summary: 'the object is a JSON object and each known field has the JSON type of the API' },
  { id: 'name-required', section: '2', summary: 'metadata.name is set unless metadata.generateName is' },
  { id: 'name-format', section: '2', summary: 'metadata.name is not "." or "..", holds no "/" or "%", and is at most 253 characters' },
  { id: 'layers-required', section: '2', summary: 'dockerImageLayers is present (a manifest list has none)' },
  { id: 'layers-on-manifest-list', section: '2', summary: 'a manifest list has no dockerImageLayers of its own' },
  { id: 'layer-name', section: '2', summary: 'each layer has a non-empty name' },
  { id: 'layer-size', section: '2', summary: 'each layer has an integer size between 0 and 2^53-1' },
  { id: 'layer-media-type', section: '2', summary: 'each layer has a non-empty mediaType' },
  { id: 'signature-type', section: '2', summary: 'each signature has a non-empty type' },
  { id: 'signature-content', section: '2', summary: 'each signature has non-empty standard base64 content' },
  { id: 'signature-condition-type', section: '2', summary: 'each signature condition has a non-empty type' },
  { id: 'signature-condition-status', section: '2', summary: 'each signature condition status is True, False or Unknown' },
  { id: 'signature-public-key-id', section: '2', summary: 'issuedTo.publicKeyID is set when issuedTo is' },
  {
    id: 'signature-verified',
    section: 'signatures',
    summary: "a signature's conditions and claims are what verification under the trusted keys derives (/mutate sets them)",
  },
  {
    id: 'trusted-signature-expected',
    section: 'signatures',
    summary: 'an Image in an --expect-trusted-signature scope carries a signature that verifies as Trusted=True and ForImage=True (warns, never denies)',
    enforcement: 'warn',
    warnOnly: true,
  },
  { id: 'docker-signatures-base64', section: '2', summary: 'dockerImageSignatures holds standard base64 strings' },
  { id: 'metadata-version', section: '2', summary: 'dockerImageMetadataVersion is "", "1.0" or "pre012"' },
  // §3 OpenShift's create rules
  { id: 'reference-format', section: '3', summary: 'dockerImageReference is set and parses as a pull spec' },
  { id: 'signature-name', section: '3', summary: 'a signature is named <imageName>@<signatureName>' },
  { id: 'signature-metadata', section: '3', summary: 'a signature carries no labels, namespace or annotations but managed-signature' },
  { id: 'signature-trust-conditions', section: '3', summary: 'Trusted and ForImage signature conditions come together' },
  { id: 'signature-unverified-fields', section: '3', summary: 'claims of a signature whose trust is unknown are unset' },
  { id: 'manifest-list-entry', section: '3', summary: 'each dockerImageManifests entry has a digest, media type, platform and size >= 0' },
  // Content addressing (docs/content-addressing.md): name, manifest, config, layers and list entries agree
  { id: 'manifest-json', section: 'content', summary: 'dockerImageManifest is a JSON object' },
  { id: 'config-json', section: 'content', summary: 'dockerImageConfig is valid JSON' },
  { id: 'manifest-digest', section: 'content', summary: "the manifest's digest (schema 1: of its canonical payload) is metadata.name" },
  { id: 'manifest-media-type', section: 'content', summary: "dockerImageManifestMediaType is the manifest's own media type" },
  { id: 'config-digest', section: 'content', summary: "the config's digest is the manifest's config.digest" },
  { id: 'config-size', section: 'content', summary: "the config's byte size is the manifest's config.size" },
  { id: 'layers-match-manifest', section: 'content', summary: "dockerImageLayers are the manifest's layers, one for one, in order" },
  { id: 'manifest-list-match', section: 'content', summary: "dockerImageManifests are the manifest list's entries, one for one" },
  {
    id: 'reference-digest',
    section: 'content',
    summary: "the digest of dockerImageReference is metadata.name (a warning: mirrors may use another digest)",
    enforcement: 'warn',
  },
  // §4 Update rules
  { id: 'immutable-field', section: '4', summary: 'what an Image is does not change after creation' },
  { id: 'signature-immutable', section: '4', summary: 'a signature that keeps its name keeps its type and content' },
] as const satisfies readonly (Omit<Rule, 'id' | 'enforcement'> & { readonly id: string; readonly enforcement?: Enforcement; readonly warnOnly?: true })[];

/** A rule identifier of the catalogue. */
export type RuleId = (typeof catalogue)[number]['id'];

/** Every rule, in catalogue order. */
export const RULES: readonly Rule[] = catalogue.map((rule): Rule => ({ enforcement: 'deny', ...rule }));

const byId = new Map<string, Rule>(RULES.map((rule) => [rule.id, rule]));

/** Looks a rule up by identifier. */
export function ruleById(id: string): Rule | undefined {
  return byId.get(id);
}

/** Whether `id` names a rule of the catalogue. */
export function isRuleId(id: string): id is RuleId {
  return byId.has(id);
}

/**
 * Reads a comma-separated list of rule identifiers (the `--disable-rules` value), or says which
 * identifiers are not in the catalogue.
 */
function parseRuleList(list: string): { ok: true; rules: ReadonlySet<RuleId> } | { ok: false; unknown: string[] } {
  const ids = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = ids.filter((id) => !isRuleId(id));
  return unknown.length === 0 ? { ok: true, rules: new Set(ids.filter(isRuleId)) } : { ok: false, unknown };
}

/**
 * What an operator makes a rule do, over the catalogue's default and the global mode (as Gatekeeper's
 * per-constraint `enforcementAction`): `deny` denies a violating write even in warn or dry-run mode,
 * `warn` only warns even in enforce mode, `off` turns the rule off (as --disable-rules).
 */
export const RULE_ACTIONS = ['deny', 'warn', 'off'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

/**
 * Reads `RULE=ACTION,...` (the `--rule-actions` value): every problem at once (unknown rule, unknown
 * action, a rule named twice, an entry without `=`).
 */
function parseRuleActions(list: string): { ok: true; actions: ReadonlyMap<RuleId, RuleAction> } | { ok: false; problems: string[] } {
  const actions = new Map<RuleId, RuleAction>();
  const problems: string[] = [];
  for (const entry of list.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = entry.indexOf('=');
    const id = (eq < 0 ? entry : entry.slice(0, eq)).trim();
    const action = eq < 0 ? '' : entry.slice(eq + 1).trim();
    if (eq < 0) problems.push(`${JSON.stringify(entry)} is not RULE=ACTION`);
    else if (!isRuleId(id)) problems.push(`${JSON.stringify(id)} is not a rule (image-admission rules lists them)`);
    else if (!(RULE_ACTIONS as readonly string[]).includes(action)) problems.push(`${id}=${JSON.stringify(action)}: the action must be one of ${RULE_ACTIONS.join(', ')}`);
    else if (action === 'deny' && byId.get(id)?.warnOnly) problems.push(`${id}=deny: this rule only warns (a policy being rolled out, never a reason to refuse an Image)`);
    else if (actions.has(id)) problems.push(`${id} is given twice`);
    else actions.set(id, action as RuleAction);
  }
  return problems.length === 0 ? { ok: true, actions } : { ok: false, problems };
}

/**
 * What the operator chose over the catalogue: the one type of `--disable-rules` and `--rule-actions`,
 * in the server's policy and every command's options alike. src/image/judge.ts applies it.
 */
export interface RuleOptions {
  /** Rules turned off (`--disable-rules`): their errors are dropped and their costly checks skipped. */
  readonly disabledRules?: ReadonlySet<RuleId>;
  /**
   * Per-rule actions (`--rule-actions`), over the mode for the rules they name: `deny` denies even in
   * warn or dry-run mode, `warn` only warns even in enforce mode or dry-run, `off` disables.
   */
  readonly ruleActions?: ReadonlyMap<RuleId, RuleAction>;
}

/** The flags that set RuleOptions, by their command-line names. */
export type RuleFlag = 'disable-rules' | 'rule-actions';

/**
 * Reads `--disable-rules` and `--rule-actions`: the one parser of both, for the server's configuration
 * and every command. A flag left undefined sets nothing. Every problem is reported at once, each
 * introduced by `label(flag)`: how the caller names the flag (`--disable-rules (DISABLE_RULES)`).
 */
export function parseRuleFlags(
  values: { readonly [F in RuleFlag]?: string },
  label: (flag: RuleFlag) => string = (flag) => `--${flag}`,
): { ok: true; options: RuleOptions } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  let disabledRules: ReadonlySet<RuleId> | undefined;
  let ruleActions: ReadonlyMap<RuleId, RuleAction> | undefined;
  if (values['disable-rules'] !== undefined) {
    const list = parseRuleList(values['disable-rules']);
    if (list.ok) disabledRules = list.rules;
    else problems.push(`${label('disable-rules')} names rules that do not exist: ${list.unknown.map((id) => JSON.stringify(id)).join(', ')}`);
  }
  if (values['rule-actions'] !== undefined) {
    const actions = parseRuleActions(values['rule-actions']);
    if (actions.ok) ruleActions = actions.actions;
    else problems.push(...actions.problems.map((problem) => `${label('rule-actions')}: ${problem}`));
  }
  for (const [id, action] of ruleActions ?? []) {
    if (action !== 'off' && disabledRules?.has(id)) problems.push(`${label('rule-actions')} sets ${id}=${action} but ${label('disable-rules')} turns it off: say one`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, options: { ...(disabledRules === undefined ? {} : { disabledRules }), ...(ruleActions === undefined ? {} : { ruleActions }) } };
}
