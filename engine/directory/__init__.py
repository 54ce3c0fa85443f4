"""The directory: the region's municipalities and schools, loaded from the ministry's
spreadsheet, and its people."""
