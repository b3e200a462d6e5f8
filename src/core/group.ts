// Grouping values by a key in insertion order: one list per key, appended to in place (a copy per
// value, `[...(map.get(k) ?? []), v]`, would make grouping n values cost n²/2).

/** Appends `value` to `key`'s list in `map`, making the list on the key's first value. */
export function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}
