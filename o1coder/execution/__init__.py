"""The execution sandbox: run untrusted, model-written code against tests and return an honest verdict."""
