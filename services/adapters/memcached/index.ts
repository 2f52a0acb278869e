export { MemcachedTarget, type MemcachedTargetOptions } from "./memcached-target.ts";
