// Parses and validates AsyncAPI documents with the official parser (@asyncapi/parser, pinned in package-lock.json).
// Usage: node validate.mjs FILE...   Prints every diagnostic; exits 1 when any document has an error or a warning,
// 2 on a usage error. The parser does not check the rule on component keys (AsyncAPI 3.0.0, Components Object: every
// key MUST match ^[a-zA-Z0-9\.\-_]+$), so this script does, as an error. Installed and run by simpul_infra.asyncapi_parser (`npm ci` into a gitignored directory).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE...");
  process.exit(2);
}
const parser = new Parser();
const names = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([name, level]) => [level, name]));
const COMPONENT_KEY = /^[a-zA-Z0-9.\-_]+$/;
let failed = false;

function badComponentKeys(json) {
  const found = [];
  for (const [kind, entries] of Object.entries(json?.components ?? {})) {
    for (const key of Object.keys(entries ?? {})) {
      if (!COMPONENT_KEY.test(key)) found.push(`components/${kind}/${key}`);
    }
  }
  return found;
}

for (const file of files) {
  const source = path.resolve(file);
  const { document, diagnostics } = await parser.parse(await readFile(source, "utf8"), { source });
  const counted = diagnostics.filter((d) => d.severity <= DiagnosticSeverity.Warning);
  for (const where of badComponentKeys(document?.json())) {
    counted.push(where);
    console.log(`${file}: Error component-key: a component key must match ${COMPONENT_KEY} at ${where}`);
  }
  for (const d of diagnostics) {
    const where = d.path.length ? d.path.join("/") : "(document)";
    const line = d.range ? `:${d.range.start.line + 1}` : "";
    console.log(`${file}${line}: ${names[d.severity] ?? d.severity} ${d.code}: ${d.message} at ${where}`);
  }
  if (document === undefined || counted.length > 0) {
    failed = true;
    console.log(`${file}: INVALID (${counted.length} error(s)/warning(s))`);
  } else {
    console.log(`${file}: valid AsyncAPI ${document.version()}`);
  }
}
process.exit(failed ? 1 : 0);
