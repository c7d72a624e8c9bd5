// The CommonJS view of the declarations (.d.cts) under `tsc --strict`.
import autoglm = require('autoglm');
import tools = require('autoglm/tools');
const registry: tools.ToolRegistry = new autoglm.ToolRegistry();
export const count: number = registry.list().length;
