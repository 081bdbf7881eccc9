/** A mistake in a composition: says which file and which field. */
export class CompositionError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid_composition' | 'invalid_variables' | 'composition_too_large',
    message: string,
  ) {
    super(message);
  }
}
