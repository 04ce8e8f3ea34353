"""Qt front end of Narrator Studio: windows, panels, item models. Kept thin over ``studio.core``."""
