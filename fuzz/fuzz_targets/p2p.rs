//! Peer-to-peer messages: the first byte picks a request (0), a response (1) or a bare
//! consensus message (otherwise); what decodes is checked as the node would check it.
#![no_main]
use concordat_consensus::Message;
use concordat_contracts::SignedTransaction;
use concordat_node::net::{WireRequest, WireResponse};
use libfuzzer_sys::fuzz_target;

fn message(m: &Message) {
    let chain = &concordat_fuzz::genesis().chain_id;
    let _ = match m {
        Message::Proposal(p) => p.verify(chain),
        Message::Vote(v) => v.verify(chain),
    };
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which {
        0 => match concordat_fuzz::canonical::<WireRequest>(rest) {
            Some(WireRequest::Consensus(m)) => message(&m),
            Some(WireRequest::Proposal(p, block)) => {
                message(&Message::Proposal(p));
                let _ = block.check_shape();
            }
            Some(WireRequest::Txs(txs)) => {
                for tx in txs {
                    let _ = SignedTransaction::from_bytes(&tx);
                }
            }
            _ => {}
        },
        1 => {
            if let Some(WireResponse::Blocks(blocks)) =
                concordat_fuzz::canonical::<WireResponse>(rest)
            {
                let genesis = concordat_fuzz::genesis();
                let set = genesis
                    .validator_set()
                    .expect("the genesis has a validator set");
                for (block, cert) in blocks {
                    let _ = block.check_shape();
                    let _ = cert.verify(
                        &genesis.chain_id,
                        &set,
                        block.header.height,
                        &block.header.hash(),
                        concordat_fuzz::rng(),
                    );
                }
            }
        }
        _ => {
            if let Some(m) = concordat_fuzz::canonical::<Message>(rest) {
                message(&m);
            }
        }
    }
});
