/** The diffusers folder layout: pure key renaming between sgm keys and diffusers keys, and the folder's config JSON. */
export {
  DiffusersConfigFields,
  type DiffusersConfigs,
  type JsonObject,
} from './diffusers-config-json.ts';
export {
  DIFFUSERS_COMPONENTS,
  DIFFUSERS_WEIGHTS_BASE,
  type DiffusersComponent,
  type DiffusersKeyLayout,
  type DiffusersKeyMeaning,
  type DiffusersPlacement,
  type DiffusersSgmPrefixes,
  diffusersHeldSources,
  diffusersKeyToSgm,
  keyLayoutFromDiffusersConfigs,
  SGM_EXTRA_FILE,
  SGM_METADATA_KEY,
  SVD_DIFFUSERS_PREFIXES,
  sgmKeyToDiffusers,
} from './diffusers-layout.ts';
