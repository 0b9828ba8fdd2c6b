public import Engine

/// The stage types shipped with contrast-pipe.
public enum BuiltinStages {
    /// A registry holding every built-in stage type.
    public static var registry: StageRegistry {
        StageRegistry([
            ApplyStage.self, CommandStage.self, CoordinatorStage.self, DownloadStage.self, GenerateStage.self,
            PatchStage.self,
            SetStage.self, VerifyStage.self,
        ])
    }
}
