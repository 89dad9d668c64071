"""Technical needs (技术需求 / 技术瓶颈) collected from companies."""
