//! Network options: `-I iftag,ifbasename[,backend]` creates a virtio-net card (the
//! guest calls it `<ifbasename><n>`, n counting from 0 in `-I` order — the original
//! counted twice per card), `-W iftag,inet,dhcp` / `-W iftag,inet,static,ADDR/MASK[,GW]`
//! / `-W iftag,inet6,auto|static,...` configures it (a `net` block in the config), and
//! `-F [tcp:|udp:]HOSTPORT:GUESTPORT` forwards a port of 127.0.0.1 on the host to the
//! guest through the first card on QEMU user networking. Without a backend a card uses
//! QEMU's user networking (no privileges; 10.0.2.15 by DHCP, host at 10.0.2.2); a
//! backend is a QEMU `-netdev` spec (`tap,ifname=tap0,script=no,downscript=no`), or raw
//! QEMU arguments if it starts with `-` (the original's form).

use crate::error::Error;
use rumprun_config::{json_string, split_cmdline};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    pub tag: String,
    /// The guest's name for it (`vioif0`).
    pub ifname: String,
    /// None = QEMU user networking.
    pub backend: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetConfig {
    pub tag: String,
    pub family: String,
    pub method: String,
    pub addr: Option<String>,
    pub mask: Option<String>,
    pub gw: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub proto: String,
    pub host_port: u16,
    pub guest_port: u16,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Network {
    pub cards: Vec<Card>,
    pub configs: Vec<NetConfig>,
    pub forwards: Vec<Forward>,
}

impl Network {
    /// `-I iftag,ifbasename[,backend]`.
    pub fn add_card(&mut self, spec: &str) -> Result<(), Error> {
        let mut parts = spec.splitn(3, ',');
        let (tag, base) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let backend = parts.next().filter(|b| !b.is_empty()).map(str::to_string);
        if tag.is_empty() || base.is_empty() {
            return Err(Error::new(format!(
                "-I {spec}: expected iftag,ifbasename[,backend]"
            )));
        }
        if tag == base {
            return Err(Error::new(format!(
                "-I {spec}: the iftag must differ from the ifbasename"
            )));
        }
        if base.ends_with(|c: char| c.is_ascii_digit()) {
            return Err(Error::new(format!("-I {spec}: the ifbasename must not end in a digit (the guest appends the card number)")));
        }
        if let Some(raw) = backend.as_deref().filter(|b| b.starts_with('-')) {
            split_cmdline(raw).map_err(|e| Error::new(format!("-I {spec}: {e}")))?;
        }
        if self.cards.iter().any(|c| c.tag == tag) {
            return Err(Error::new(format!("-I {spec}: iftag {tag} is used twice")));
        }
        let ifname = format!("{base}{}", self.cards.len());
        self.cards.push(Card {
            tag: tag.to_string(),
            ifname,
            backend,
        });
        Ok(())
    }

    /// `-W iftag,family,method[,addr/mask[,gw]]`.
    pub fn add_config(&mut self, spec: &str) -> Result<(), Error> {
        let p: Vec<&str> = spec.split(',').collect();
        let bad = || {
            Error::new(format!("-W {spec}: expected iftag,inet,dhcp or iftag,inet,static,ADDR/MASK[,GW] or iftag,inet6,auto"))
        };
        if p.len() < 3 {
            return Err(bad());
        }
        let (addr, mask, gw) = match p[2] {
            "static" => {
                let (a, m) = p.get(3).and_then(|am| am.split_once('/')).ok_or_else(bad)?;
                (
                    Some(a.to_string()),
                    Some(m.to_string()),
                    p.get(4).map(|g| g.to_string()),
                )
            }
            _ if p.len() == 3 => (None, None, None),
            _ => return Err(bad()),
        };
        self.configs.push(NetConfig {
            tag: p[0].to_string(),
            family: p[1].to_string(),
            method: p[2].to_string(),
            addr,
            mask,
            gw,
        });
        Ok(())
    }

    /// `-F [tcp:|udp:]HOSTPORT:GUESTPORT`.
    pub fn add_forward(&mut self, spec: &str) -> Result<(), Error> {
        let bad = || Error::new(format!("-F {spec}: expected [tcp:|udp:]HOSTPORT:GUESTPORT"));
        let (proto, rest) = match spec.split_once(':') {
            Some((p @ ("tcp" | "udp"), r)) => (p, r),
            _ => ("tcp", spec),
        };
        let (h, g) = rest.split_once(':').ok_or_else(bad)?;
        let port = |s: &str| s.parse::<u16>().ok().filter(|&p| p > 0);
        let (host_port, guest_port) = (port(h).ok_or_else(bad)?, port(g).ok_or_else(bad)?);
        self.forwards.push(Forward {
            proto: proto.to_string(),
            host_port,
            guest_port,
        });
        Ok(())
    }

    /// Cross-checks after all options: every -W names a card, -F needs a user-net card.
    pub fn check(&self) -> Result<(), Error> {
        for c in &self.configs {
            if !self.cards.iter().any(|k| k.tag == c.tag) {
                return Err(Error::new(format!(
                    "-W {}: no -I with iftag {}",
                    c.tag, c.tag
                )));
            }
        }
        if !self.forwards.is_empty() && !self.cards.iter().any(|c| c.backend.is_none()) {
            return Err(Error::new(
                "-F needs a card on QEMU user networking (an -I without a backend)",
            ));
        }
        Ok(())
    }

    /// The `net` blocks for the config.
    pub fn config_json(&self) -> String {
        let mut out = String::new();
        for c in &self.configs {
            let card = self.cards.iter().find(|k| k.tag == c.tag).expect("checked");
            out += &format!(
                ", \"net\": {{\"if\": {}, \"type\": {}, \"method\": {}",
                json_string(&card.ifname),
                json_string(&c.family),
                json_string(&c.method)
            );
            for (k, v) in [("addr", &c.addr), ("mask", &c.mask), ("gw", &c.gw)] {
                if let Some(v) = v {
                    out += &format!(", \"{k}\": {}", json_string(v));
                }
            }
            out.push('}');
        }
        out
    }

    /// The QEMU arguments for the cards; `bus` is the virtio device suffix (`pci`, or
    /// `device` for MMIO).
    pub fn qemu_args(&self, bus: &str) -> Vec<String> {
        let mut a = Vec::new();
        let first_user = self.cards.iter().position(|c| c.backend.is_none());
        for (i, c) in self.cards.iter().enumerate() {
            let mac = format!("52:54:00:12:34:{:02x}", 0x56 + i);
            match c.backend.as_deref() {
                Some(raw) if raw.starts_with('-') => {
                    a.push("-net".into());
                    a.push(format!("nic,model=virtio,macaddr={mac}"));
                    a.extend(split_cmdline(raw).unwrap_or_default()); // checked by add_card
                    continue;
                }
                Some(spec) => {
                    a.push("-netdev".into());
                    a.push(format!("{spec},id=rrnet{i}"));
                }
                None => {
                    let mut spec = format!("user,id=rrnet{i}");
                    if Some(i) == first_user {
                        for f in &self.forwards {
                            spec += &format!(
                                ",hostfwd={}:127.0.0.1:{}-:{}",
                                f.proto, f.host_port, f.guest_port
                            );
                        }
                    }
                    a.push("-netdev".into());
                    a.push(spec);
                }
            }
            a.push("-device".into());
            a.push(format!("virtio-net-{bus},netdev=rrnet{i},mac={mac}"));
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_are_numbered_once_each() {
        let mut n = Network::default();
        n.add_card("a,vioif").unwrap();
        n.add_card("b,vioif").unwrap();
        assert_eq!(n.cards[1].ifname, "vioif1");
        n.add_config("b,inet,static,10.0.0.2/24,10.0.0.1").unwrap();
        n.add_config("a,inet,dhcp").unwrap();
        n.check().unwrap();
        assert_eq!(
            n.config_json(),
            ", \"net\": {\"if\": \"vioif1\", \"type\": \"inet\", \"method\": \"static\", \"addr\": \"10.0.0.2\", \"mask\": \"24\", \"gw\": \"10.0.0.1\"}, \"net\": {\"if\": \"vioif0\", \"type\": \"inet\", \"method\": \"dhcp\"}"
        );
    }

    #[test]
    fn forwards_go_to_the_first_user_card() {
        let mut n = Network::default();
        n.add_card("t,vioif,tap,ifname=tap0,script=no,downscript=no")
            .unwrap();
        n.add_card("u,vioif").unwrap();
        n.add_forward("8080:80").unwrap();
        n.add_forward("udp:5353:53").unwrap();
        n.check().unwrap();
        assert_eq!(
            n.qemu_args("pci"),
            [
                "-netdev",
                "tap,ifname=tap0,script=no,downscript=no,id=rrnet0",
                "-device",
                "virtio-net-pci,netdev=rrnet0,mac=52:54:00:12:34:56",
                "-netdev",
                "user,id=rrnet1,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5353-:53",
                "-device",
                "virtio-net-pci,netdev=rrnet1,mac=52:54:00:12:34:57",
            ]
        );
    }

    #[test]
    fn errors() {
        let mut n = Network::default();
        assert!(n.add_card("x").is_err());
        assert!(n.add_card("x,x").is_err());
        assert!(n.add_card("x,eth0").is_err());
        assert!(n.add_config("x,inet").is_err());
        assert!(n.add_config("x,inet,static,1.2.3.4").is_err());
        assert!(n.add_forward("80").is_err());
        assert!(n.add_forward("tcp:0:80").is_err());
        n.add_config("nope,inet,dhcp").unwrap();
        assert_eq!(
            n.check().unwrap_err().message,
            "-W nope: no -I with iftag nope"
        );
        let mut m = Network::default();
        m.add_forward("8080:80").unwrap();
        assert!(m.check().is_err());
    }
}
