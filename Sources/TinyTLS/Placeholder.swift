public enum TinyTLSPlaceholder {}
