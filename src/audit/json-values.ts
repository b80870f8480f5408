/**
 * Finds audit Events in JSON that is not one event per line: a pretty-printed Event, a JSON array of
 * events, or an `EventList` (the batches an audit webhook backend receives), possibly several of them
 * one after another. The bytes are scanned once; only one event at a time is held, so a batch of any
 * size is read in the memory of its largest event.
 *
 * An object is handed over when it is a top-level value, an element of a top-level array, or an
 * element of an array held directly by a top-level object (`items` of an EventList). A top-level
 * object that holds such elements is a container and is not handed over itself.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const NEWLINE = 0x0a;

/** Called with each object's text and the line it starts on. */
export type ValueListener = (json: string, line: number) => void;

/** A byte scanner fed line by line. */
export class JsonValueSplitter {
  private readonly stack: number[] = [];
  private inString = false;
  private escaped = false;
  /** Bytes of the object being captured, and the depth it started at (-1: none). */
  private parts: Buffer[] = [];
  private captureDepth = -1;
  private captureLine = 0;
  /** Bytes outside any value that were not whitespace or commas. */
  stray = 0;

  constructor(private readonly onValue: ValueListener) {}

  /** Whether the scanner is inside a value (the input ended early when this is still true at the end). */
  get open(): boolean {
    return this.stack.length > 0;
  }

  /** Feeds one line (without its newline). */
  line(bytes: Buffer, lineNo: number): void {
    let start = this.captureDepth >= 0 ? 0 : -1;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) {
        this.inString = true;
      } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        if (b === OPEN_OBJECT && this.capturable()) {
          // A nested capture means the outer object is a container (an EventList): drop it.
          this.parts = [];
          this.captureDepth = this.stack.length;
          this.captureLine = lineNo;
          start = i;
        }
        this.stack.push(b);
      } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        if (this.stack.length === 0) {
          this.stray++;
          continue;
        }
        this.stack.pop();
        if (b === CLOSE_OBJECT && this.captureDepth === this.stack.length) {
          this.parts.push(bytes.subarray(start, i + 1));
          this.onValue(Buffer.concat(this.parts).toString('utf8'), this.captureLine);
          this.parts = [];
          this.captureDepth = -1;
          start = -1;
        }
      } else if (this.stack.length === 0 && b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x2c) {
        this.stray++;
      }
    }
    if (this.captureDepth >= 0 && start >= 0) {
      this.parts.push(Buffer.from(bytes.subarray(start)));
      this.parts.push(Buffer.of(NEWLINE));
    }
  }

  /** Whether an object opening now should be captured. */
  private capturable(): boolean {
    const s = this.stack;
    if (s.length === 0) return true;
    if (s.length === 1) return s[0] === OPEN_ARRAY;
    // A second-level array of a top-level object: an EventList's items. Only when the top-level
    // object is not itself being captured as an event in its own right at a deeper array.
    return s.length === 2 && s[0] === OPEN_OBJECT && s[1] === OPEN_ARRAY;
  }
}
