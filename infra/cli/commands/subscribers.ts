import { API_OPTIONS, type Command, targetOptions, writeJson } from '../command.ts';
import { SUBSCRIBER_COLUMNS } from '../render.ts';
import { renderTable } from '../table.ts';
import { apiClientFor } from '../target.ts';

export const subscribers: Command = {
  name: 'subscribers',
  summary: "the stage's webhook subscribers and their health",
  usage: 'subscribers [--stage S | --local] [--json]',
  description: `
Lists the stage's webhook subscribers (GET /subscribers): enabled or disabled (a 410 Gone disables one
until "enable"), the last delivered and failed attempts, the failures since the last delivery, and how
many deliveries wait in the subscriber's dead-letter queue.`,
  options: { ...API_OPTIONS },
  positionals: { min: 0, max: 0 },
  async run({ command, values, io, deps }) {
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    const answer = await api.subscribers();
    if (values.json) writeJson(io, answer);
    else
      io.stdout.write(
        renderTable(SUBSCRIBER_COLUMNS, answer.subscribers, 'The stage has no webhook subscribers.'),
      );
    return 0;
  },
};
