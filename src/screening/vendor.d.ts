/** Types for the parts of talisman we use (the package ships none). */
declare module 'talisman/metrics/jaro-winkler' {
  /** Jaro-Winkler similarity in [0, 1] (1 = equal). */
  export function similarity(a: string, b: string): number;
  export function custom(options: { boostThreshold?: number; scalingFactor?: number }, a: string, b: string): number;
}
