// Starts `spectro lsp` for pack files. Settings under `spectro.*` are sent at start
// (initializationOptions) and on every change (workspace/didChangeConfiguration).
const { workspace } = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

exports.activate = async function activate() {
  const cfg = workspace.getConfiguration("spectro");
  client = new LanguageClient(
    "spectro",
    "spectro",
    { command: cfg.get("path", "spectro"), args: ["lsp"] },
    {
      documentSelector: [{ scheme: "file", pattern: "**/*.{json,yaml,yml}" }],
      initializationOptions: {
        select: cfg.get("select"),
        extendSelect: cfg.get("extendSelect"),
        ignore: cfg.get("ignore"),
        severity: cfg.get("severity"),
        packs: cfg.get("packs"),
        rulesUrl: cfg.get("rulesUrl"),
      },
      synchronize: { configurationSection: "spectro" },
    },
  );
  await client.start();
};

exports.deactivate = function deactivate() {
  return client ? client.stop() : undefined;
};
