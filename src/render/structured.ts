// -o json and -o yaml: the versioned report, unchanged.
import yaml from 'js-yaml'
import type {Report} from '../core/model.js'

export function renderJson(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n'
}

export function renderYaml(report: Report): string {
  return yaml.dump(report, {noRefs: true, lineWidth: -1})
}
