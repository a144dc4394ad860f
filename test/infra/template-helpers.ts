import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '#infra/app.ts';
import type { PayoutLinkTrackerStack } from '#infra/stack.ts';

export interface SynthesizedStage {
  app: App;
  stack: PayoutLinkTrackerStack;
  template: Template;
}

/**
 * One stage synthesized in-process, once per test file. Bundling is skipped here (the CLI synth
 * test bundles every function for real); everything else is the stack `cdk deploy` gets.
 */
const cache = new Map<string, SynthesizedStage>();
export function synthStage(stage: string): SynthesizedStage {
  let synthesized = cache.get(stage);
  if (!synthesized) {
    const { app, stack } = buildApp(stage, new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    synthesized = { app, stack, template: Template.fromStack(stack) };
    cache.set(stage, synthesized);
  }
  return synthesized;
}

export type Resource = { Type: string; Properties: Record<string, unknown>; [key: string]: unknown };

/** The one resource of a type whose properties match, with its logical id. */
export function only(template: Template, type: string, props: Record<string, unknown> = {}) {
  const found = Object.entries(template.findResources(type, { Properties: props }));
  if (found.length !== 1) throw new Error(`Expected one ${type} matching, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource: resource as Resource };
}

/** A readable form of a policy resource: `arn(LogicalId)`, `ref(LogicalId)`, joins flattened. */
export function describeResource(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const intrinsic = value as Record<string, unknown>;
    if ('Ref' in intrinsic) return `ref(${String(intrinsic.Ref)})`;
    if ('Fn::GetAtt' in intrinsic) {
      const [id, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
      return attribute === 'Arn' ? `arn(${id})` : `${attribute.toLowerCase()}(${id})`;
    }
    if ('Fn::Join' in intrinsic) {
      const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
      return parts.map(describeResource).join(separator);
    }
  }
  return JSON.stringify(value);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every identity-policy statement of the template: `AWS::IAM::Policy` documents and role inline policies. */
export function identityStatements(template: Template): { owner: string; statement: Statement }[] {
  const statements: { owner: string; statement: Statement }[] = [];
  for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    const document = (policy as Resource).Properties.PolicyDocument as { Statement: Statement[] };
    for (const statement of document.Statement) statements.push({ owner: id, statement });
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    const inline = ((role as Resource).Properties.Policies ?? []) as {
      PolicyDocument: { Statement: Statement[] };
    }[];
    for (const policy of inline) {
      for (const statement of policy.PolicyDocument.Statement) statements.push({ owner: id, statement });
    }
  }
  return statements;
}

/**
 * A statement's `Condition` as one line, operators, keys and values sorted, intrinsics made readable:
 * `ForAllValues:StringEquals dynamodb:LeadingKeys=[SUBSCRIBER#a,SUBSCRIBER#b]`.
 */
export function describeCondition(condition: unknown): string {
  const blocks = Object.entries(condition as Record<string, Record<string, unknown>>)
    .map(([operator, keys]) => {
      const tests = Object.entries(keys)
        .map(([key, values]) => `${key}=[${asArray(values).map(describeResource).sort().join(',')}]`)
        .sort();
      return `${operator} ${tests.join(' ')}`;
    })
    .sort();
  return blocks.join('; ');
}

/**
 * What a role may do, as sorted `action on resource` lines, each with ` if <condition>` when the
 * statement has one: its `AWS::IAM::Policy` documents and its inline policies, every statement an Allow.
 */
export function grantsOfRole(template: Template, roleId: string): string[] {
  const grants = new Set<string>();
  for (const { owner, statement } of identityStatements(template)) {
    const policy = template.findResources('AWS::IAM::Policy')[owner] as Resource | undefined;
    const attachedTo = policy
      ? asArray(policy.Properties.Roles as unknown[]).map(describeResource)
      : [`ref(${owner})`];
    if (!attachedTo.includes(`ref(${roleId})`)) continue;
    if (statement.Effect !== 'Allow') throw new Error(`Unexpected ${statement.Effect} in ${owner}`);
    const condition =
      statement.Condition === undefined ? '' : ` if ${describeCondition(statement.Condition)}`;
    for (const action of asArray(statement.Action)) {
      for (const resource of asArray(statement.Resource))
        grants.add(`${action} on ${describeResource(resource)}${condition}`);
    }
  }
  return [...grants].sort();
}

/** `grants(['a', 'b'], 'arn(X)')` -> `['a on arn(X)', 'b on arn(X)']`. */
export const grants = (actions: string[], ...resources: string[]): string[] =>
  actions.flatMap((action) => resources.map((resource) => `${action} on ${resource}`));

/** `grantsIf({StringEquals: {k: 'v'}}, ['a'], 'arn(X)')` -> `['a on arn(X) if StringEquals k=[v]']`. */
export const grantsIf = (
  condition: Record<string, Record<string, unknown>>,
  actions: string[],
  ...resources: string[]
) => grants(actions, ...resources).map((grant) => `${grant} if ${describeCondition(condition)}`);
