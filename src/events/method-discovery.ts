import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, type DiscoverableDecorator } from '@nestjs/core';

export interface DecoratedMethod<T> {
  metadata: T;
  instance: object;
  method: (...args: never[]) => unknown;
  methodName: string;
  /** The Nest module that provides the instance, e.g. "StateModule". */
  moduleName: string;
  className: string;
}

/** Finds every provider method marked with a decorator made by `DiscoveryService.createDecorator()`. */
@Injectable()
export class MethodDiscovery {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  methodsWith<T>(decorator: DiscoverableDecorator<T>): DecoratedMethod<T>[] {
    const found: DecoratedMethod<T>[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, (...args: never[]) => unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias) continue;
      const prototype = Object.getPrototypeOf(instance);
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const metadata = this.discovery.getMetadataByDecorator(decorator, wrapper, methodName);
        if (metadata === undefined) continue;
        found.push({ metadata, instance, method: instance[methodName], methodName, moduleName: wrapper.host?.name ?? 'core', className: prototype.constructor.name });
      }
    }
    return found;
  }
}
