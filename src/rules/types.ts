/** A user rule as written in the config: the fields of a built-in policy, with CEL for the logic. */
import type { Action, ChartFamily, Severity, SubjectKind } from '../engine/types.js';

/** Which subjects a rule judges besides its kinds; every list given must contain the subject's value. */
export interface RuleMatch {
  families?: ChartFamily[];
  /** Chart version range: space-separated comparators, `>=2.4.0 <2.7.0` (releases only). */
  versions?: string;
  namespaces?: string[];
  /** Release names or object names. */
  names?: string[];
}

/** One rule: plain data (it crosses to worker threads), compiled where it is evaluated. */
export interface RuleSpec {
  id: string;
  title: string;
  severity: Severity;
  action: Action;
  appliesTo: SubjectKind[];
  match?: RuleMatch;
  /** CEL that must be true for the subject to pass. */
  expression: string;
  message?: string;
  /** CEL giving the message (a string); when it fails, `message` is used. */
  messageExpression?: string;
  /** The value or field path the message is about. */
  path?: string;
  remediation: string;
  description?: string;
  /** Cost units one evaluation may spend. */
  costBudget?: number;
}
