import type { KilnError } from '../../errors.js';
import type { FileTree } from '../../fs/tree.js';
import type { Element, SourceDecl, YamlValue } from '../model.js';
import { SourceConfig, sourceError, sourceLabel, type Source, type SourceContext } from './kind.js';

/** What every kind shares: identity, label, ref holding and located errors. */
export abstract class BaseSource implements Source {
  readonly kind: string;
  readonly directory: string;
  readonly label: string;
  abstract readonly needsRef: boolean;
  protected currentRef: YamlValue | undefined;
  protected readonly config: SourceConfig;

  constructor(
    readonly element: Element,
    readonly decl: SourceDecl,
  ) {
    this.kind = decl.kind;
    this.directory = decl.directory.replace(/^\/+/, '').replace(/\/+$/, '');
    this.label = sourceLabel(element, decl);
    this.config = new SourceConfig(element, decl);
  }

  /** Call at the end of a subclass constructor, once its fields are set. */
  protected initRef(): void {
    this.setRef(this.decl.ref ?? (this.decl.config as Record<string, YamlValue>)['ref']);
  }

  get ref(): YamlValue | undefined {
    return this.currentRef;
  }

  setRef(ref: YamlValue | undefined): void {
    this.currentRef = ref === undefined || ref === '' ? undefined : this.validateRef(ref);
  }

  /** Checks a ref's form; kinds without refs ignore it. */
  protected validateRef(ref: YamlValue): YamlValue {
    return ref;
  }

  protected error(key: string | undefined, code: string, message: string, hint?: string): KilnError {
    return sourceError(this.element, this.decl, key, code, message, hint);
  }

  abstract uniqueKey(): YamlValue | undefined;
  abstract isCached(ctx: SourceContext): boolean;
  abstract track(ctx: SourceContext): Promise<YamlValue | undefined>;
  abstract fetch(ctx: SourceContext): Promise<void>;
  abstract stage(ctx: SourceContext, tree: FileTree): Promise<void>;
}
