// The optional Marathon features a master enables, which decide what an app may use.

/** Optional Marathon features this master enables (`--enable_features`). */
export interface AppFeatures {
  /** Apps may refer to secrets: the master has a secrets key. */
  secrets: boolean;
}
