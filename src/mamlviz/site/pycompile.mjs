// Compiles the package's Python sources to bytecode with the site's own Pyodide (its CPython, so the bytecode is
// the one the browser runs), at build time under node: the worker then imports .pyc files instead of compiling
// every module from source on each page load. stdin: {indexURL, files: {path in the zip: source}};
// stdout: {path of the .pyc in the zip: base64}. Hash-based pycs, checked against their source's hash on import
// (cheap; a source changed after the build is compiled again): unpacking the zip gives files new modification
// times, which timestamp-based pycs would fail on.
import {createRequire} from "node:module";

const require = createRequire(import.meta.url);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const {indexURL, files} = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const {loadPyodide} = require(indexURL + "pyodide.js");
const py = await loadPyodide({indexURL, stdout: () => {}, stderr: (s) => process.stderr.write(s + "\n")});
const ROOT = "/home/pyodide/mamlviz-src/";   // where the worker unpacks the zip: tracebacks name these paths
for (const [name, source] of Object.entries(files)) {
  py.FS.mkdirTree(ROOT + name.split("/").slice(0, -1).join("/"));
  py.FS.writeFile(ROOT + name, source);
}
py.globals.set("names", py.toPy(Object.keys(files)));
const out = py.runPython(`
import base64, importlib.util, py_compile
out = {}
for name in names:
    source = "${ROOT}" + name
    pyc = importlib.util.cache_from_source(source)
    py_compile.compile(source, cfile=pyc, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    out[pyc[len("${ROOT}"):]] = base64.b64encode(open(pyc, "rb").read()).decode()
import json
json.dumps(out)
`);
process.stdout.write(out);
