"""Reading and writing rows: every function takes a SQLAlchemy session; nothing here asks a
provider or knows about Flask requests."""
