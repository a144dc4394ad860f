import { API_OPTIONS, type Command, targetOptions, writeJson } from '../command.ts';
import { apiClientFor } from '../target.ts';

export const unwatch: Command = {
  name: 'unwatch',
  summary: 'stop watching a link (its history is kept)',
  usage: 'unwatch <linkId> [--stage S | --local] [--json]',
  description: `
Stops the scheduled rechecks of a link (DELETE /links/{linkId}). Its state and recorded changes are
kept; "track" or "watch" starts watching it again.`,
  options: { ...API_OPTIONS },
  positionals: { min: 1, max: 1, name: '<linkId>' },
  async run({ command, positionals, values, io, deps }) {
    const linkId = positionals[0]!;
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    await api.unwatch(linkId);
    if (values.json) writeJson(io, { linkId, watching: false });
    else io.stdout.write(`No longer watching ${linkId} (its history is kept).\n`);
    return 0;
  },
};
