import * as z from 'zod';
import { parseControlInput } from './errors.ts';

export type FaultKind = 'latency' | 'http-status' | 'timeout' | 'malformed' | 'statuscode';

/** Body of `POST /sandbox/faults` and input of `Sandbox.addFault`. */
export interface FaultInput {
  kind: FaultKind;
  /** latency / timeout: milliseconds; http-status: the HTTP status; statuscode: the envelope code; malformed: the body. */
  value?: number | string;
  /** Applies to this many matching requests, then is used up. */
  count?: number;
  /** Applies to a matching request with this chance (0..1). */
  probability?: number;
  /** Only requests about this link. */
  linkId?: string;
}

/** A fault as stored, with its value resolved. */
export interface Fault {
  readonly id: string;
  readonly kind: FaultKind;
  readonly value: number | string;
  readonly probability: number | undefined;
  readonly linkId: string | undefined;
  /** Uses left; `undefined` for a fault that never runs out. */
  remaining: number | undefined;
}

const DEFAULT_LATENCY_MS = 1_000;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_HTTP_STATUS = 500;
const DEFAULT_MALFORMED_BODY = '<html>Bad Gateway</html>';
const MAX_DELAY_MS = 10 * 60 * 1000;

const delayMs = z.int().min(0).max(MAX_DELAY_MS);

const faultSchema = z
  .strictObject({
    kind: z.enum(['latency', 'http-status', 'timeout', 'malformed', 'statuscode']),
    value: z.union([z.number(), z.string()]).optional(),
    count: z.int().min(1).optional(),
    probability: z.number().min(0).max(1).optional(),
    linkId: z.string().min(1).optional(),
  })
  .superRefine((fault, context) => {
    const problem = valueProblem(fault.kind, fault.value);
    if (problem) context.addIssue({ code: 'custom', path: ['value'], message: problem });
  });

function valueProblem(kind: FaultKind, value: number | string | undefined): string | undefined {
  switch (kind) {
    case 'latency':
    case 'timeout':
      return value === undefined || delayMs.safeParse(value).success
        ? undefined
        : `a ${kind} value is an integer number of milliseconds from 0 to ${MAX_DELAY_MS}`;
    case 'http-status':
      return value === undefined || z.int().min(200).max(599).safeParse(value).success
        ? undefined
        : 'an http-status value is an integer HTTP status from 200 to 599';
    case 'statuscode':
      return typeof value === 'string' && /^[A-Za-z0-9]{1,16}$/.test(value)
        ? undefined
        : "a statuscode fault needs a value such as 'TUP' (1 to 16 letters or digits)";
    case 'malformed':
      return value === undefined || typeof value === 'string'
        ? undefined
        : 'a malformed value is the body to send';
  }
}

function resolvedValue(kind: FaultKind, value: number | string | undefined): number | string {
  if (value !== undefined) return value;
  switch (kind) {
    case 'latency':
      return DEFAULT_LATENCY_MS;
    case 'timeout':
      return DEFAULT_TIMEOUT_MS;
    case 'http-status':
      return DEFAULT_HTTP_STATUS;
    case 'malformed':
      return DEFAULT_MALFORMED_BODY;
    case 'statuscode':
      return 'TUP';
  }
}

/** What to do to one upstream request: delay it by `latencyMs`, then answer with `fault` if any. */
export interface FaultSelection {
  latencyMs: number;
  fault: Fault | undefined;
}

/**
 * Active faults, in the order they were added. For each request: the first matching latency fault
 * and the first matching other fault apply; a fault whose probability roll fails does not apply and
 * is not used up.
 */
export class FaultStore {
  private faults: Fault[] = [];
  private sequence = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** Validates and stores a fault; answers its id. Throws `SandboxInputError` on invalid input. */
  add(input: unknown): string {
    const copy = input === undefined ? undefined : JSON.parse(JSON.stringify(input));
    const parsed = parseControlInput(faultSchema, copy, 'fault');
    this.sequence += 1;
    const id = `fault-${this.sequence}`;
    this.faults.push({
      id,
      kind: parsed.kind,
      value: resolvedValue(parsed.kind, parsed.value),
      probability: parsed.probability,
      linkId: parsed.linkId,
      remaining: parsed.count,
    });
    return id;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((fault) => fault.id !== id);
    return this.faults.length < before;
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  /** Picks (and uses up) the faults for a request about `linkId` (`undefined` when it names no link). */
  select(linkId: string | undefined): FaultSelection {
    let latency: Fault | undefined;
    let other: Fault | undefined;
    for (const fault of this.faults) {
      if (fault.linkId !== undefined && fault.linkId !== linkId) continue;
      const isLatency = fault.kind === 'latency';
      if (isLatency ? latency : other) continue;
      if (fault.probability !== undefined && !(this.random() < fault.probability)) continue;
      if (isLatency) latency = fault;
      else other = fault;
      if (latency && other) break;
    }
    for (const used of [latency, other]) {
      if (used?.remaining === undefined) continue;
      used.remaining -= 1;
      if (used.remaining <= 0) this.remove(used.id);
    }
    return {
      latencyMs: latency ? (latency.value as number) : 0,
      fault: other && { ...other },
    };
  }
}
