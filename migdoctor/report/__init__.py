"""The telling layer: writers that turn facts and findings into text, JSON and Markdown."""
