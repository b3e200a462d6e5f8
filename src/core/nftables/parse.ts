// nft output in any of the forms svctrace accepts: JSON, a listing, or `nft -f` transaction text.
import type {NftRuleset} from './model.js'
import {parseNftJson} from './json.js'
import {parseNftText} from './text.js'

/** Parses `nft -j list …` JSON or nft text; throws DumpError naming the line (or JSON object). */
export function parseNft(text: string, source: string): NftRuleset {
  return text.trimStart().startsWith('{') ? parseNftJson(text, source) : parseNftText(text, source)
}
