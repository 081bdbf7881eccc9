/** The turn's text: prompt, else content, else text, else the message as JSON. */
export function promptOf(message: Record<string, unknown>): string {
  for (const key of ['prompt', 'content', 'text']) if (typeof message[key] === 'string' && message[key]) return message[key] as string;
  return JSON.stringify(message);
}
