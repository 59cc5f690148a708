public enum TinyHTTPPlaceholder {}
