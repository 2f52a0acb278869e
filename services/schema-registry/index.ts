export {
  type RegistryRoutesOptions,
  registryPathPrefixes,
  registryRoutes,
} from "./http-routes.ts";
export { SchemaRegistryService } from "./registry.ts";
export { RegistryError, RegistryErrorCode } from "./registry-error.ts";
