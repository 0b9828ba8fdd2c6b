import Engine
import Foundation
import Stages
import YAML

/// The command dispatcher.
enum CLI {
    static func main(_ argv: [String]) async -> Int32 {
        let args: Arguments
        do {
            args = try Arguments(argv)
        } catch {
            Output.err("contrast-pipe: \(error.message)\nTry 'contrast-pipe --help'.")
            return 2
        }
        if let dir = args.directory {
            guard FileManager.default.changeCurrentDirectoryPath(dir) else {
                Output.err("contrast-pipe: cannot change to directory '\(dir)'")
                return 2
            }
        }
        let command = args.command.first ?? (args.help ? "help" : "")
        if args.help && command != "help" {
            Output.out(Help.commands[command] ?? Help.main)
            return 0
        }
        do {
            switch command {
            case "", "help":
                let topic = args.command.dropFirst().first ?? args.positional.first
                if let topic {
                    guard let text = Help.commands[topic] else {
                        throw UsageError(message: "no help for unknown command '\(topic)'")
                    }
                    Output.out(text)
                } else {
                    Output.out(Help.main)
                }
                return command.isEmpty && !args.help ? 2 : 0
            case "version":
                Output.out("contrast-pipe \(Help.version)")
                return 0
            case "run":
                return try await Commands.run(args)
            case "plan":
                return try Commands.plan(args, check: false)
            case "check":
                return try Commands.plan(args, check: true)
            case "graph":
                return try Commands.graph(args)
            case "explain":
                return try Commands.explain(args)
            case "cache":
                return try Commands.cache(args)
            case "patch":
                return try Commands.patch(args)
            case "generate":
                return try await Commands.generate(args)
            case "evidence":
                return try EvidenceCommand.run(args)
            case "coordinator":
                return try await CoordinatorCommands.coordinator(args)
            case "set":
                return try CoordinatorCommands.set(args)
            case "verify":
                return try CoordinatorCommands.verify(args)
            case "initializer":
                return try CoordinatorCommands.initializer(args)
            case "recover":
                return try CoordinatorCommands.recover(args)
            default:
                var message = "unknown command '\(command)'"
                let known = [
                    "run", "plan", "check", "graph", "explain", "cache", "patch", "generate", "evidence", "coordinator",
                    "set", "verify",
                    "initializer", "recover", "version", "help",
                ]
                if let s = Suggest.closest(to: command, among: known) { message += " (did you mean '\(s)'?)" }
                throw UsageError(message: message)
            }
        } catch let e as UsageError {
            Output.err("contrast-pipe: \(e.message)\nTry 'contrast-pipe --help'.")
            return 2
        } catch let d as Diagnostic {
            Output.err(d.description)
            return 2
        } catch let e as EngineError {
            Output.err("contrast-pipe: \(e)")
            if case .lockBusy = e { return 1 }
            return 2
        } catch {
            Output.err("contrast-pipe: \(error)")
            return 1
        }
    }
}
