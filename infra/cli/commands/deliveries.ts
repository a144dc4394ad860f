import { API_OPTIONS, type Command, targetOptions, writeJson } from '../command.ts';
import { renderDeliveries } from '../render.ts';
import { apiClientFor } from '../target.ts';

export const deliveries: Command = {
  name: 'deliveries',
  summary: "a link's webhook deliveries per subscriber, with their attempts",
  usage: 'deliveries <linkId> [--stage S | --local] [--json]',
  description: `
Shows every webhook delivery of a link's events (GET /links/{linkId}/deliveries): per event and
subscriber, its state (pending, delivered, dead-lettered, disabled), its attempts and the last one's
outcome (the receiver's HTTP status, or timeout, connection, refused-address), and when the next
attempt is due. Attempts are kept 30 days. --json prints the API's answer, every attempt included.`,
  options: { ...API_OPTIONS },
  positionals: { min: 1, max: 1, name: '<linkId>' },
  async run({ command, positionals, values, io, deps }) {
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    const answer = await api.deliveries(positionals[0]!);
    if (values.json) writeJson(io, answer);
    else io.stdout.write(renderDeliveries(answer));
    return 0;
  },
};
