"""leadops: lead operations for B2B inside-sales teams."""

__version__ = "0.1.0"
