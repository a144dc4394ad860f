import { API_OPTIONS, type Command, intOption, targetOptions, writeJson } from '../command.ts';
import { renderLink } from '../render.ts';
import { apiClientFor } from '../target.ts';

export const track: Command = {
  name: 'track',
  summary: 'check a link with InstantPay now and show it',
  usage: 'track <linkId> [--max-age SECONDS] [--stage S | --local] [--json]',
  description: `
Checks the link with InstantPay now (GET /links/{linkId}), records and publishes any change, watches
it if it is not final, and shows its state. With --max-age, a stored state that fresh is shown
without asking InstantPay.`,
  options: {
    'max-age': {
      type: 'string',
      value: 'SECONDS',
      help: 'accept a stored state at most this old (0 to 86400) instead of checking now',
    },
    ...API_OPTIONS,
  },
  positionals: { min: 1, max: 1, name: '<linkId>' },
  async run({ command, positionals, values, io, deps }) {
    const maxAgeSeconds = intOption(values, 'max-age', { min: 0, max: 86_400 }, command);
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    const link = await api.trackLink(positionals[0]!, maxAgeSeconds === undefined ? {} : { maxAgeSeconds });
    if (values.json) writeJson(io, link);
    else io.stdout.write(renderLink(link));
    return 0;
  },
};
