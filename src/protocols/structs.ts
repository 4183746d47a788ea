/**
 * @internal The runtime value of a class's tangent vector: an object holding exactly the class's
 * differentiable stored properties, each a tangent.
 */
export function makeTangentStruct(_cls: object, fields: Record<string, unknown>): unknown {
  return fields;
}
