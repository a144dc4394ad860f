import { API_OPTIONS, type Command, targetOptions, writeJson } from '../command.ts';
import { renderEvents } from '../render.ts';
import { apiClientFor } from '../target.ts';

export const events: Command = {
  name: 'events',
  summary: 'the recorded changes of a link, oldest first',
  usage: 'events <linkId> [--stage S | --local] [--json]',
  description: `
Lists the changes recorded for a link (GET /links/{linkId}/events), oldest first: each status change
and each batch of new activity, with its sequence, what triggered the check, and when it reached the
bus. --json prints the API's answer: {linkId, events: [{detailType, publishedAt, ...detail}]}.`,
  options: { ...API_OPTIONS },
  positionals: { min: 1, max: 1, name: '<linkId>' },
  async run({ command, positionals, values, io, deps }) {
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    const page = await api.events(positionals[0]!);
    if (values.json) writeJson(io, page);
    else io.stdout.write(renderEvents(page));
    return 0;
  },
};
