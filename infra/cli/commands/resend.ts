import { MAX_RESEND_EVENTS } from '#shared/http/requests.ts';
import { API_OPTIONS, type Command, stringOption, targetOptions, writeJson } from '../command.ts';
import { UsageError } from '../errors.ts';
import { apiClientFor } from '../target.ts';
import { forTerminal } from '../terminal-text.ts';

export const resend: Command = {
  name: 'resend',
  summary: 'send events to a subscriber again, with their original webhook-id',
  usage: 'resend --subscriber NAME <eventId>... [--stage S | --local] [--json]',
  description: `
Puts these events (1 to ${MAX_RESEND_EVENTS} event ids, as "events" and "deliveries" show them) on the
subscriber's queue again (POST /subscribers/{name}/resend): each is delivered once more, signed, with
its original webhook-id, whatever its state; each try appears in "deliveries". A disabled subscriber
is refused (enable it first); an id that is not an event this subscriber receives refuses the whole
request, and nothing is queued.`,
  options: {
    subscriber: { type: 'string', value: 'NAME', help: 'the subscriber, as named in the stage config' },
    ...API_OPTIONS,
  },
  positionals: { min: 1, max: MAX_RESEND_EVENTS, name: '<eventId>' },
  async run({ command, positionals, values, io, deps }) {
    const name = stringOption(values, 'subscriber');
    if (!name) throw new UsageError('--subscriber NAME is required.', command);
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    const answer = await api.resend(name, positionals);
    if (values.json) writeJson(io, answer);
    else
      io.stdout.write(
        `Queued ${answer.queued} event${answer.queued === 1 ? '' : 's'} for ${forTerminal(name)}: each arrives again with its original webhook-id.\n`,
      );
    return 0;
  },
};
