"""The Asterisk protocol layer: AMI (pbx.ami), ARI (pbx.ari) and a node = one Asterisk box."""
