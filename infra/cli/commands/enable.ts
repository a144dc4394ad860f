import { API_OPTIONS, type Command, stringOption, targetOptions, writeJson } from '../command.ts';
import { UsageError } from '../errors.ts';
import { renderSubscriber } from '../render.ts';
import { apiClientFor } from '../target.ts';
import { forTerminal } from '../terminal-text.ts';

export const enable: Command = {
  name: 'enable',
  summary: 'enable a subscriber a 410 disabled, and resume its kept deliveries',
  usage: 'enable --subscriber NAME [--stage S | --local] [--json]',
  description: `
Enables the subscriber (POST /subscribers/{name}/enable) and starts moving the deliveries kept in its
dead-letter queue back to its queue, as the operator command "redrive" does, so they are tried again.
Prints the subscriber as it is then.`,
  options: {
    subscriber: { type: 'string', value: 'NAME', help: 'the subscriber, as named in the stage config' },
    ...API_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  async run({ command, values, io, deps }) {
    const name = stringOption(values, 'subscriber');
    if (!name) throw new UsageError('--subscriber NAME is required.', command);
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    const subscriber = await api.enable(name);
    if (values.json) writeJson(io, subscriber);
    else {
      io.stdout.write(renderSubscriber(subscriber));
      io.stdout.write(
        `Enabled ${forTerminal(name)}: its kept deliveries are moving back to its queue (see "deliveries").\n`,
      );
    }
    return 0;
  },
};
