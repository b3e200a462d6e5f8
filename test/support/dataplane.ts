// NodeDataplane builders for tests: a node's captures from their texts.
import {captureOf, captureText as coreCaptureText} from '../../src/core/captures.js'
import type {CaptureKind, NodeDataplane} from '../../src/core/model.js'

/** A node with these captures; each source is `NAME: KIND` unless `sources` names it. */
export function dataplane(
  name: string,
  texts: Partial<Record<CaptureKind, string>>,
  sources: Partial<Record<CaptureKind, string>> = {},
  more: Pick<NodeDataplane, 'otherIptablesBackend'> = {},
): NodeDataplane {
  const captures = Object.entries(texts).map(([kind, text]) => ({kind: kind as CaptureKind, text, source: sources[kind as CaptureKind] ?? `${name}: ${kind}`}))
  return {name, captures, ...more}
}

/** The text of the node's capture of one kind. */
export function captureText(dp: NodeDataplane, kind: CaptureKind): string | undefined {
  const c = captureOf(dp, kind)
  return c ? coreCaptureText(c) : undefined
}
