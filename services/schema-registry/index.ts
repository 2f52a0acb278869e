export {
  type RegistryRoutesOptions,
  registryContentType,
  registryPathPrefixes,
  registryRoutes,
} from "./http-routes.ts";
export {
  defaultCompatibility,
  type Registration,
  type RegistryStore,
  SchemaRegistryService,
  type StoredVersion,
} from "./registry.ts";
export { RegistryError, RegistryErrorCode } from "./registry-error.ts";
