-- spectro lsp in a real editor: Neovim (Debian's 0.7.2) headless.
--   nvim --headless --clean -u NONE -c 'luafile tests/lsp/nvim.lua'
-- with SPECTRO_BIN and SPECTRO_PACK (a scratch copy of a valid pack) in the environment.
-- Opens pack.json, makes an unsaved edit with an emoji before a typo, waits for the
-- finding, hovers, applies the quick fix through Neovim's own code, and checks the text.
local function fail(msg)
  io.stderr:write("nvim-lsp: FAIL: " .. msg .. "\n")
  vim.cmd("cquit 1")
end

local bin, pack = os.getenv("SPECTRO_BIN"), os.getenv("SPECTRO_PACK")
if not bin or not pack then fail("SPECTRO_BIN and SPECTRO_PACK must be set") end

local exit_code
local id = vim.lsp.start_client({
  name = "spectro", cmd = { bin, "lsp" }, root_dir = pack,
  on_exit = function(code) exit_code = code end,
})
if not id then fail("the server did not start") end
vim.cmd("edit " .. pack .. "/pack.json")
vim.lsp.buf_attach_client(0, id)

local line = '{"name": "hello-universe", "displayName": "Hello 😀", "version": "1.3.1", "layer": "adon", '
  .. '"addonType": "app services", "cloudTypes": ["all"], "kubeManifests": ["manifests/hello-universe.yaml"]}'
vim.api.nvim_buf_set_lines(0, 0, -1, false, { line })

local function finding(code)
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.message:find("adon", 1, true) and code == "PK006" then return d end
  end
end
if not vim.wait(10000, function() return finding("PK006") ~= nil end, 20) then
  fail("no PK006 diagnostic for the unsaved buffer; got " .. vim.inspect(vim.diagnostic.get(0)))
end
local d = finding("PK006")
-- Neovim keeps byte columns: the value starts after the emoji's 4 bytes.
local want = line:find('"adon"', 1, true) - 1
if d.col ~= want then fail("diagnostic at byte column " .. d.col .. ", expected " .. want) end

local params = vim.lsp.util.make_position_params()
local _, utf16 = vim.str_utfindex(line, d.col)
params.position = { line = 0, character = utf16 }
local hover = vim.lsp.buf_request_sync(0, "textDocument/hover", params, 5000)
local text = hover and hover[id] and hover[id].result and hover[id].result.contents.value or ""
if not text:find("invalid-enum-value", 1, true) then fail("hover: " .. vim.inspect(hover)) end

-- The code action request carries the diagnostics as Neovim 0.7 converts them back
-- (byte columns as `character`); the fix must still land on the right characters.
local ctx = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(0, 0) }
local range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } }
local res = vim.lsp.buf_request_sync(0, "textDocument/codeAction",
  { textDocument = { uri = vim.uri_from_bufnr(0) }, range = range, context = ctx }, 5000)
local action
for _, r in pairs(res or {}) do
  for _, a in ipairs(r.result or {}) do
    if a.kind == "quickfix" and a.title:find("addon", 1, true) then action = a end
  end
end
if not action then fail("no quick fix: " .. vim.inspect(res)) end
vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
local fixed = vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]
if not fixed:find('"displayName": "Hello 😀", "version": "1.3.1", "layer": "addon",', 1, true) then
  fail("after the fix: " .. fixed)
end
if not vim.wait(10000, function() return finding("PK006") == nil end, 20) then
  fail("PK006 still shown after the fix")
end
-- shutdown, exit, and the server's exit code 0.
vim.lsp.stop_client(id)
if not vim.wait(10000, function() return exit_code ~= nil end, 20) then fail("the server did not exit") end
if exit_code ~= 0 then fail("the server exited with " .. exit_code) end
io.stdout:write("nvim-lsp: ok (diagnostic, hover, quick fix on a line with an emoji, clean exit)\n")
vim.cmd("qall!")
