/**
 * Incremental server-sent-events decoder for the relay's hot path: text in as it arrives, the
 * `data` of each complete event out. Only what an upstream's completion stream uses is kept
 * (data fields, comments, any line ending); event names, ids and retry hints are ignored, since
 * no upstream we read sends them for chunks. Written for the relay rather than taken from a
 * general parser because it runs once per network read of every answer, and per-event callbacks
 * and objects were a measurable share of the gateway's CPU.
 */
export class SseDecoder {
  /** Text after the last complete line. */
  private rest = "";
  /** Data lines of the event being read. */
  private data: string[] = [];
  /** A chunk ended in "\r": a "\n" starting the next one belongs to the same line ending. */
  private pendingCr = false;

  /** Feeds the next piece of the stream; returns the data of every event it completed, in order. */
  push(text: string): string[] {
    let input = text;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (input.startsWith("\n")) input = input.slice(1);
    }
    const buffer = this.rest + input;
    const events: string[] = [];
    let start = 0;
    for (;;) {
      const lf = buffer.indexOf("\n", start);
      const cr = buffer.indexOf("\r", start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === buffer.length) {
          // "\r" last: the line ends here, but a "\n" may follow in the next piece.
          this.pendingCr = true;
          next = cr + 1;
        } else next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else break;
      this.line(buffer.slice(start, end), events);
      start = next;
    }
    this.rest = start === 0 ? buffer : buffer.slice(start);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === "") {
      if (this.data.length > 0) {
        events.push(this.data.join("\n"));
        this.data = [];
      }
      return;
    }
    if (!line.startsWith("data")) return; // comments (":") and fields we do not use
    if (line.length === 4) this.data.push("");
    else if (line.charCodeAt(4) === 58 /* ":" */) this.data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
  }
}
