public enum TinyHubPlaceholder {}
