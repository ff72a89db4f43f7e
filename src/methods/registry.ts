/**
 * Every method file in this folder exports one MethodFactory; they are found
 * here by Vite's import.meta.glob (eager, so the worker bundle holds them all),
 * which is why adding a method needs no edit to this file or to the trainer.
 */
import type { MethodId } from '../core/methods';
import type { MethodContext, MethodFactory, SslMethod } from './method';

const modules = import.meta.glob<Record<string, unknown>>(['./*.ts', '!./*.test.ts', '!./*.testutil.ts', '!./method.ts', '!./registry.ts'], { eager: true });

function isFactory(value: unknown): value is MethodFactory {
  return typeof value === 'object' && value !== null && typeof (value as MethodFactory).create === 'function' && typeof (value as MethodFactory).id === 'string';
}

const FACTORIES = new Map<MethodId, MethodFactory>(
  Object.values(modules).flatMap((exports) => Object.values(exports).filter(isFactory).map((f) => [f.id, f] as const)),
);

/** The ids with a method file: what can train. */
export function implementedMethods(): MethodId[] {
  return [...FACTORIES.keys()];
}

/** Builds the method a config asks for; throws a message a user can read when it has no implementation. */
export function createMethod(context: MethodContext): SslMethod {
  const factory = FACTORIES.get(context.config.method);
  if (!factory) throw new Error(`The method “${context.config.method}” cannot train yet: it has no implementation in src/methods.`);
  return factory.create(context);
}
