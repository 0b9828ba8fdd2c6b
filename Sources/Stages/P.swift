public enum StagesPlaceholder {}
