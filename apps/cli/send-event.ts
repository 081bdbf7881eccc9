import { isErrorResult, KsiClient, KsiEventError } from '../../libs/client/src';
import { EXIT, usageError } from './cli-error';
import { dataFromFlags, dataFromJson } from './data-flags';
import { dim, pretty } from './output';

export interface SendEventOptions {
  json?: string;
  output?: string;
}

/** `ksi send EVENT --key value …`: one request, its reply's data printed, its correlation id on stderr for people. */
export async function sendEvent(socketPath: string, [event, ...rest]: string[], options: SendEventOptions, print: (data: unknown, human: () => string) => void): Promise<void> {
  if (!event.includes(':')) throw usageError(`"${event}" is not an event name; events look like namespace:name (see \`ksi discover\`)`);
  const data = { ...(options.json ? dataFromJson(options.json) : {}), ...dataFromFlags(rest) };
  const client = new KsiClient({ socketPath });
  let reply;
  try {
    reply = await client.request(event, data);
  } finally {
    await client.close();
  }
  if ('error' in reply) throw new KsiEventError(event, reply.code, reply.error, reply);
  const { data: result, correlation_id: correlationId } = reply;
  print(result, () => pretty(result));
  // For people: the id `ksi trace` takes. Programs (-o json|yaml) get the data alone on stdout.
  if (options.output !== 'json' && options.output !== 'yaml') process.stderr.write(`${dim(`correlation id ${correlationId} (ksi trace ${correlationId})`)}\n`);
  if ((Array.isArray(result) ? result : [result]).some(isErrorResult)) process.exitCode = EXIT.daemonError;
}
