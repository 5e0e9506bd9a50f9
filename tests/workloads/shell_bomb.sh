#!/bin/bash
# The classic shell fork bomb.  Run it only under build/contain.
:(){ :|:& };:
