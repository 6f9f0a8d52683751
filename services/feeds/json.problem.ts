/**
 * What is wrong with a piece of JSON, without quoting it: V8's messages
 * sometimes embed the input text, which may hold personal data.
 */
export function jsonProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  // V8 appends the input after ', "' or names the place after ' in JSON': cut both.
  const head = message.split(/, "| in JSON/)[0] ?? '';
  const what = head.length > 0 && head.length <= 80 && !head.includes('"') ? head : 'malformed';
  return position !== undefined ? `${what} at character ${Number(position) + 1}` : what;
}
