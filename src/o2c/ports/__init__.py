"""The boundary of o2c: ports as typing.Protocols and the pluggy hook specifications."""
