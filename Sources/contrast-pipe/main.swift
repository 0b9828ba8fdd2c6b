import Foundation

// Entry point: parse, dispatch, map errors to exit codes (0 ok, 1 failed/stale, 2 usage or configuration).
let code = await CLI.main(Array(CommandLine.arguments.dropFirst()))
exit(code)
